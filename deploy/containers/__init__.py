"""`bilan containers test`: the Bilan image built from a local Debian base and the journey run
against its containers, on the loopback interface only (see deploy/README.md)."""
