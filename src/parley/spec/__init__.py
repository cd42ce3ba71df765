"""Teams as data: a team spec (YAML or JSON) for everything the classic API builds.

``Team.from_file("team.yaml").run(message="...")``; ``Team.from_agents(user, manager).to_yaml()``.
Loading never runs code: import paths resolve when the team is built, from allowed modules only.
See docs/spec.md.
"""

from .document import SPEC_VERSION, TeamSpec
from .errors import SpecError, SpecIssue
from .team import Team, ValidationReport

__all__ = ["SPEC_VERSION", "SpecError", "SpecIssue", "Team", "TeamSpec", "ValidationReport"]
