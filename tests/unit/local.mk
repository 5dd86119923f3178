# fragment for tests/unit
