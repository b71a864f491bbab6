"""Write the OpenAPI document the app generates (`make openapi`); CI checks it for drift."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app.core.config import Settings


def generate() -> dict[str, Any]:
    from app.main import create_app

    # Settings that touch nothing on disk: the spec does not depend on configuration.
    settings = Settings(DATABASE_URL="sqlite:///:memory:", DATA_KEY="x" * 43, LOOKUP_KEY="x" * 43)
    return create_app(settings).openapi()


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "openapi/openapi.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
