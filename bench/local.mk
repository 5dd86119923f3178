# fragment for bench
