"""The policy core stays pure Python: no module under mileage/policy imports Django."""

import ast
from pathlib import Path

POLICY = Path(__file__).resolve().parents[2] / "mileage" / "policy"


def test_policy_has_no_django_import():
    offenders = []
    for path in POLICY.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in {"django", "wagtail"}]
    assert offenders == []
    assert len(list(POLICY.rglob("*.py"))) >= 5
