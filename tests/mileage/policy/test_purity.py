"""The policy core stays pure Python: no module under mileage/policy imports Django, and the only module of the
project outside mileage/policy that it may import is the wire protocol (mileage.wire), itself pure Python that
imports nothing of the project (the provider sandbox imports it too, docs/adr/0008)."""

import ast
from pathlib import Path

import mileage

MILEAGE = Path(mileage.__file__).resolve().parent
POLICY = MILEAGE / "policy"
WIRE = MILEAGE / "wire.py"
FRAMEWORKS = {"django", "wagtail"}
PROJECT = {"mileage", "portal", "cms_pages", "provider_sandbox"}


def _imports(path: Path, package: str) -> list[str]:
    """Absolute names of every module `path` imports (relative imports resolved against `package`)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.append(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.append(node.module)
    return names


def test_policy_has_no_django_import():
    offenders = []
    for path in POLICY.rglob("*.py"):
        offenders += [f"{path.name}: {n}" for n in _imports(path, "mileage.policy") if n.split(".")[0] in FRAMEWORKS]
    assert offenders == []
    assert len(list(POLICY.rglob("*.py"))) >= 5


def test_policy_imports_of_the_project_are_only_itself_and_the_wire_protocol():
    offenders = []
    for path in POLICY.rglob("*.py"):
        for name in _imports(path, "mileage.policy"):
            if name.split(".")[0] in PROJECT and not (name == "mileage.wire" or name.startswith("mileage.policy")):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_the_wire_protocol_imports_neither_django_nor_anything_of_the_project():
    names = _imports(WIRE, "mileage")
    assert [n for n in names if n.split(".")[0] in FRAMEWORKS | PROJECT] == []
    assert "hmac" in names  # the parser saw the module's imports
