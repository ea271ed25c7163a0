"""Prefect tasks: thin wrappers (retries, cache keys, storage) over :mod:`stemcrate.audio`.

Each module holds a plain function that does the stage's storage work (read inputs from the
store, call the audio engine, write artefacts + a manifest, return store URIs) and a
``@task`` wrapping it with retries, a retry condition, a timeout and a content-based cache
key. Tasks never open the catalogue.
"""
