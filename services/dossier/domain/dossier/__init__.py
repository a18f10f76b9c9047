"""The dossier aggregate: one beneficiary's bilan from opening to destruction of its documents.

Pure: no I/O, no clock. Content (needs analysis, results, notes, synthesis) arrives already
sealed by the application and is kept here only as opaque ciphertext. Policies that are
configuration (acceptance and withdrawal periods, destruction grace) arrive in the commands.

Layout: `events` (the domain events and the `DossierEvent` union), `state`, `commands` (and
the `Command` union), `decide` and `evolve` (a `match` each, ending in `assert_never`), and the
rules by legal topic: `convention` (R6313-8, L6353-1/-3/-5), `conduct` (R6313-4 phases,
referent, assessments, completion), `synthesis` (L6313-4 consent and disclosure), `retention`
(R6313-7). This module re-exports the public API: every public name of `commands`, `events`
and `state`, and what the rest of the service uses of the other modules.
"""

# Star imports: each command and event is named once, where it is defined (and in the unions
# that decide and evolve match on), not again in an import list and an __all__ here.
from services.dossier.domain.dossier.commands import *  # noqa: F403
from services.dossier.domain.dossier.convention import MANDATORY_MENTIONS as MANDATORY_MENTIONS
from services.dossier.domain.dossier.convention import REQUIRED_PARTIES as REQUIRED_PARTIES
from services.dossier.domain.dossier.decide import decide as decide
from services.dossier.domain.dossier.events import *  # noqa: F403
from services.dossier.domain.dossier.evolve import evolve as evolve
from services.dossier.domain.dossier.evolve import fold as fold
from services.dossier.domain.dossier.retention import DESTRUCTION_LEAD as DESTRUCTION_LEAD
from services.dossier.domain.dossier.retention import DOCUMENT_CLASSES as DOCUMENT_CLASSES
from services.dossier.domain.dossier.retention import MAX_RETENTION as MAX_RETENTION
from services.dossier.domain.dossier.retention import destruction_time as destruction_time
from services.dossier.domain.dossier.retention import due_destruction as due_destruction
from services.dossier.domain.dossier.state import *  # noqa: F403
