"""The main job, end to end on this machine: `make demo` runs `python -m demo.run`.

A local Calendly sandbox -> `meltano run tap-calendly target-duckdb dbt-duckdb:build` -> row counts
proven equal to what the tap emitted -> the analyst's first questions answered in SQL on the dbt
marts, and output/demo/report.html drawn from them -> reverse ETL through
`meltano run tap-csv-folder target-calendly` -> the captured responses and their effect read back.

The pieces are importable so the end-to-end tests run the very same pipeline.
"""
