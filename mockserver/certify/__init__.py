"""``postback-kit certify``: a partner self-certifies its endpoint (SPEC 2, 2.2)."""

from mockserver.certify._checks import CHECKS
from mockserver.certify._engine import CertifyOptions, Progress, certify, plan

__all__ = ["CHECKS", "CertifyOptions", "Progress", "certify", "plan"]
