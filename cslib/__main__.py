from cslib.cli.main import main

raise SystemExit(main())
