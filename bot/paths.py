"""Files that ship inside the package (so a regular install has them too), found beside the code
rather than in the repository or the working directory."""

from pathlib import Path

# the sample owner registry the console offers to load into an empty database
SAMPLE_OWNERS = Path(__file__).resolve().parent / "samples" / "owners.csv"
