"""The built UI that ships in the package (no browser needed): it is there, complete, built from
the current spec schema, and its sources never render text as HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

from parley.spec import TeamSpec

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "parley" / "studio" / "static"
UI = ROOT / "studio-ui"


def test_the_built_ui_is_in_the_package_with_every_file_it_loads():
    index = (STATIC / "index.html").read_text()
    referenced = re.findall(r'(?:src|href)="\./(assets/[^"]+)"', index)
    assert any(name.endswith(".js") for name in referenced), index
    for name in referenced:
        assert (STATIC / name).is_file(), f"index.html loads {name}, which the build did not write"
    # The builder (React Flow, YAML) is its own chunk, loaded when opened: the first page stays small.
    chunks = {path.name for path in (STATIC / "assets").glob("*.js")}
    assert any(name.startswith("Builder-") for name in chunks), chunks
    first_load = sum((STATIC / name).stat().st_size for name in referenced)
    assert first_load < 300_000, f"the first page loads {first_load} bytes"


def test_the_forms_are_built_from_the_current_spec_schema():
    copied = json.loads((UI / "src" / "spec-schema.json").read_text())
    assert copied == TeamSpec.model_json_schema(by_alias=True), (
        "studio-ui/src/spec-schema.json is out of date: run `npm run schema && npm run build` in studio-ui/")


def test_the_ui_never_renders_text_as_html():
    for path in (UI / "src").rglob("*.ts*"):
        source = path.read_text()
        for risky in ("dangerouslySetInnerHTML", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert risky not in source, f"{path.relative_to(ROOT)} uses {risky}"
