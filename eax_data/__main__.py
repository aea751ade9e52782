from eax_data.cli import main

if __name__ == "__main__":  # guard: datatrove's multi-worker executor re-imports the main module
    raise SystemExit(main())
