from freeclaude.app import main

main()
