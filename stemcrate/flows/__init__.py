"""Prefect flows: the DAG ingest → separate → slice/classify, MIDI, lyrics."""
