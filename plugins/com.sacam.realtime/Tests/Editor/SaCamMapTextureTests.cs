#nullable enable
using NUnit.Framework;
using SaCam.Client;
using UnityEngine;

namespace SaCam.Unity.Tests
{
    /// <summary>Edit-mode checks that need no server (Window > General > Test Runner): the map upload and where the
    /// server is looked for.</summary>
    public sealed class SaCamMapTextureTests
    {
        [Test]
        public void A_map_uploads_into_an_R8_texture_of_its_size_and_reuses_it()
        {
            var result = new SaCamResult { MapWidth = 4, MapHeight = 2, Map = new byte[] { 0, 1, 2, 3, 4, 5, 6, 7, 99 } };
            using (var map = new SaCamMapTexture())
            {
                Assert.That(map.Upload(result), Is.True);
                var texture = map.Texture;
                Assert.That(texture, Is.Not.Null);
                Assert.That(texture!.width, Is.EqualTo(4));
                Assert.That(texture.height, Is.EqualTo(2));
                Assert.That(map.Upload(result), Is.True);
                Assert.That(map.Texture, Is.SameAs(texture), "same size: the texture is kept");
            }
        }

        [Test]
        public void A_result_without_a_map_uploads_nothing()
        {
            using (var map = new SaCamMapTexture())
                Assert.That(map.Upload(new SaCamResult()), Is.False);
        }

        [Test]
        public void A_configured_server_path_wins()
        {
            Assert.That(SaCamServerLocator.Find("/opt/sacam/sacam"), Is.EqualTo("/opt/sacam/sacam"));
        }
    }
}
