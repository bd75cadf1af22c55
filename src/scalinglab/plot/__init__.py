"""scalinglab.plot"""


def save_figure(figure, path, *, dpi: int = 150):
    """Write ``figure`` to ``path`` (.png or .svg), creating its folder, and close it.

    Raises
    ------
    ScalinglabError
        When the suffix is neither .png nor .svg.
    """
    from pathlib import Path

    import matplotlib.pyplot as plt

    from ..errors import ScalinglabError

    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise ScalinglabError(f"a figure file must end in .png or .svg; got {path.name!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    return path
