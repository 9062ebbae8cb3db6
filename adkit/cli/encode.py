"""``adkit encode``."""
import click

from adkit.cli._options import MODEL_FILE, OVERWRITE, InputPath, reading, say


@click.command()
@click.argument("files", nargs=-1, required=True, type=InputPath())
@MODEL_FILE
@click.option("-o", "--output", default="latent.h5", show_default=True, type=click.Path(dir_okay=False),
              help="HDF5 file: dataset 'latent' (events x latent_dim), plus 'source' and 'entry'.")
@OVERWRITE
@reading
def encode(**options):
    """Write the latent space of FILES under an autoencoder's encoder (the model file)."""
    from adkit.workflows.encode import encode_command

    encode_command(**options, say=say)
