from eax_data.cli import main

raise SystemExit(main())
