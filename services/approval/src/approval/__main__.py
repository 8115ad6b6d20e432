from approval.app import main

main()
