from archive.app import main

main()
