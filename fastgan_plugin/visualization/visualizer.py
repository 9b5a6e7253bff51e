"""mmagic's visualizer with RGBA images shown over a checkerboard."""
from mmagic.registry import VISUALIZERS
from mmagic.visualization import Visualizer
from torch import Tensor

from ..utils.channels import checkerboard, to_rgb

PIXEL_RANGE = (0.0, 255.0)


@VISUALIZERS.register_module()
class CheckerboardVisualizer(Visualizer):
    """mmagic's ``Visualizer`` (same arguments) whose sample grids show RGBA images over a
    grey checkerboard, as image editors do; mmagic's drops the alpha and shows the colour
    under transparent pixels. RGB and grey images as mmagic's."""

    @staticmethod
    def _post_process_image(image: Tensor) -> Tensor:
        """(N, C, H, W) BGR(A) or grey in [0, 255] -> (N, 3, H, W) RGB (mmagic's step, which
        this overrides, after compositing RGBA)."""
        if image.shape[1] == 4:
            image = to_rgb(image.float(), PIXEL_RANGE, checkerboard(*image.shape[-2:], PIXEL_RANGE))
        return Visualizer._post_process_image(image)
