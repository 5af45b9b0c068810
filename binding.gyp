{
  "targets": [
    {
      "target_name": "sockopt",
      "sources": ["native/sockopt.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
