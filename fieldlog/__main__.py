from fieldlog.cli import main

main()
