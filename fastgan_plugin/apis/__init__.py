from .classes import class_indices, class_labels, class_names, find_classes, num_classes
from .config import enable_amp, load_config
from .export import export_onnx, export_torchscript
from .inference import (
    generate,
    generate_to_folder,
    init_model,
    sample_images,
    seeded_injection_noise,
    seeded_noise,
    select_generator,
    to_grid,
    to_pil,
)
from .interpolation import interpolate, interpolate_latents, interpolation_latents
from .nearest_neighbors import (
    ImageDistance,
    load_image_folder,
    memorisation,
    nearest_neighbors_grid,
    nearest_training_images,
)
from .projection import Projection, project, projection_interpolation, save_projection
from .publish import publish_checkpoint, published_path
from .style_mixing import style_mix, style_mix_grid

__all__ = [
    'ImageDistance', 'class_indices', 'class_labels', 'class_names', 'enable_amp',
    'find_classes', 'num_classes', 'export_onnx', 'export_torchscript', 'generate',
    'generate_to_folder', 'init_model', 'interpolate',
    'interpolate_latents', 'interpolation_latents', 'load_config', 'load_image_folder',
    'memorisation', 'nearest_neighbors_grid', 'nearest_training_images', 'Projection',
    'project', 'projection_interpolation', 'save_projection', 'publish_checkpoint',
    'published_path', 'sample_images', 'seeded_injection_noise', 'seeded_noise',
    'select_generator', 'style_mix', 'style_mix_grid', 'to_grid', 'to_pil'
]
