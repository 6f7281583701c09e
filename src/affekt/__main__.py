from affekt.cli.app import main

main()
