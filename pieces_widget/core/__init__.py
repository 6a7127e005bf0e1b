"""The Pieces OS Model API from Python: models, errors, the client, discovery, the progress
stream and download jobs. Nothing here imports the widget or the command line."""
