"""The top floor: the `ioc` command line (`cli.main`), its subcommand registry, the
service runner (`make up` / `make down`) and the pipeline runner. Nothing imports it."""
