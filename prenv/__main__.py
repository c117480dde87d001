from prenv.cli import main

main()
