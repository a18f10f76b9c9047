-- One database per service (the official image runs this once, on an empty volume).
CREATE DATABASE bilan_dossier;
CREATE DATABASE bilan_scheduling;
CREATE DATABASE bilan_survey;
CREATE DATABASE bilan_reporting;
CREATE DATABASE bilan_console;
