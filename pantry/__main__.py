from pantry.cli import main

main()
