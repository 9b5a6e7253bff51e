"""mmagic's FID on images of any channel layout, brought to RGB as a viewer sees them."""
from mmagic.evaluation.metrics import FrechetInceptionDistance
from mmagic.registry import METRICS
from torch import Tensor

from fastgan_plugin.utils.channels import to_rgb

PIXEL_RANGE = (0.0, 255.0)  # images reach mmagic's metrics in [0, 255]


def metric_rgb(images: Tensor) -> Tensor:
    """Images as mmagic's metrics get them, (N, C, H, W) or (C, H, W) BGR(A) or grey in
    [0, 255] -> 3-channel BGR: RGBA composited on white, grey repeated (:func:`to_rgb`).
    FID, KID and SWD all pass their real and generated images through it."""
    if images.dim() == 3:
        return to_rgb(images[None], PIXEL_RANGE)[0]
    return to_rgb(images, PIXEL_RANGE)


@METRICS.register_module()
class CompositeFID(FrechetInceptionDistance):
    """mmagic's ``FrechetInceptionDistance`` (same arguments and outputs) whose Inception
    sees every image, real or generated, through :func:`metric_rgb`: RGBA composited on
    white, grey repeated to 3 channels; RGB exactly as mmagic's."""

    def forward_inception(self, image: Tensor) -> Tensor:
        """Inception features of (N, C, H, W) BGR(A) or grey images in [0, 255]."""
        return super().forward_inception(metric_rgb(image))
