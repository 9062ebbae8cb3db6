from adkit.cli import main

main()
