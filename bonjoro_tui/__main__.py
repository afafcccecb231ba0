from bonjoro_tui.cli import main

raise SystemExit(main())
