# fragment for tests/fs
