## Examples: run by tests/fs/examples.sh, shipped in the tarball.
EXTRA_DIST += examples/quickstart.sh examples/search.py examples/sample.txt \
	examples/rag.py
## Operations examples, installed as documentation: a systemd unit and an
## fstab line (milvusfs(1), FILES); tests/fs/ops.sh runs both.
exampledir = $(docdir)/examples
dist_example_DATA = examples/milvusfs.service examples/fstab
