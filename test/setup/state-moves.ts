// In every test file: a camera or an ffmpeg process asked to move outside
// its state table (src/ingest/) fails the run. In production such a move is
// refused with a warning and the camera goes on; under test it is a bug to see.
process.on('warning', (warning: Error & { code?: string }) => {
  if (warning.code === 'LOOKOUT_CAMERA_STATE' || warning.code === 'LOOKOUT_FFMPEG_STATE') {
    throw new Error(`state table broken: ${warning.message}`);
  }
});
