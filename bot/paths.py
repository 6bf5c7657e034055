"""Files that ship with the project."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_OWNERS = ROOT / "data" / "sample_owners.csv"
