from permission.app import main

main()
