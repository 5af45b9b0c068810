{
  "targets": [
    {
      "target_name": "sockopt",
      "sources": ["native/sockopt.c"],
      "cflags": ["-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
