# fragment for man
