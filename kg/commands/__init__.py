"""Groups of ``kg`` subcommands that live beside the core ones in :mod:`kg.cli`.

Each module defines click commands and a ``register(cli)`` function; :mod:`kg.cli` calls
them, so a feature's command-line surface sits next to nothing but itself.
"""
