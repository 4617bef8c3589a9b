"""matcher over HTTP: `matcher serve` runs a FastAPI app on uvicorn (the optional `service`
extra) with background solves in a pool of worker processes, jobs kept in SQLite under the data
directory, and tenants identified by API keys.

- `app`: the routes, problem details, limits;
- `schemas`: the request and response bodies, built on the library's models;
- `jobs`: the worker pool;
- `storage`: the store's interface (`Storage`) and its SQLite implementation;
- `keys`: API keys (hashed, compared in constant time);
- `config`: the settings and their defaults;
- `cli`: `matcher serve`, `matcher serve keys add|list|revoke`.

Importing this package loads nothing but this docstring: FastAPI is imported by `app` only.
"""
