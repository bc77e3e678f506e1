"""The OrdersSample stack: every construct of constructs_lib wired into one orders back end."""
