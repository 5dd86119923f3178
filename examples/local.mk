# fragment for examples
