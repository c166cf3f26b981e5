"""A custom protection that crashes on its fourth review day (for exit-code-3 tests)."""

from domain.messages import APPROVE
from domain.protections.base import Protection


class CrashOnDayThree(Protection):
    name = "crasher"

    def review(self, proposal, ctx):
        if ctx.step >= 3:
            raise RuntimeError("boom on step 3")
        return self.verdict(proposal, APPROVE, "fine")
