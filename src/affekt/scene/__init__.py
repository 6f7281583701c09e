"""The scene modality: emotions of people in context (EMOTIC: body box, scene, face, pose)."""
