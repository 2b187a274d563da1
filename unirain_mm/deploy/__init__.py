"""Export to ONNX and run exported models (onnxruntime)."""
