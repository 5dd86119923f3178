## Examples: run by tests/fs/examples.sh, shipped in the tarball.
EXTRA_DIST += examples/quickstart.sh examples/search.py examples/sample.txt \
	examples/rag.py
