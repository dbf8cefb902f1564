/** The frames-in shape of the ffmpeg helper, under the path the encode job imports it by. */
export { FfmpegSink } from './ffmpeg.js';
