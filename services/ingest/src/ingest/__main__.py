from ingest.app import main

main()
