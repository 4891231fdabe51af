from audit_lib.cli import main

main()
