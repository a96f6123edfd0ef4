from freeclaude.main import main

main()
