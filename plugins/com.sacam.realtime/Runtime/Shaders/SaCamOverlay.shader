// Colours the SaCam map (jet) and blends it over the camera texture, on the GPU. The map arrives at the model's
// input size with the geometry of the frame it belongs to: _SaCamSource is the part of the frame the model saw
// (normalized, top-left origin), _SaCamTarget where that part lies in the map. SaCamOverlay sets all four
// properties; outside the source rectangle the camera shows unchanged.
Shader "SaCam/Overlay"
{
    Properties
    {
        _MainTex ("Camera", 2D) = "black" {}
        _SaCamMap ("Map (R8, top row first)", 2D) = "black" {}
        _SaCamSource ("Source rect (x, y, w, h)", Vector) = (0, 0, 1, 1)
        _SaCamTarget ("Target rect (x, y, w, h)", Vector) = (0, 0, 1, 1)
        _Opacity ("Opacity", Range(0, 1)) = 0.5
    }
    SubShader
    {
        Tags { "RenderType" = "Opaque" "Queue" = "Geometry" }
        Pass
        {
            CGPROGRAM
            #pragma vertex vert
            #pragma fragment frag
            #include "UnityCG.cginc"

            sampler2D _MainTex;
            sampler2D _SaCamMap;
            float4 _SaCamSource;
            float4 _SaCamTarget;
            float _Opacity;

            struct v2f
            {
                float4 pos : SV_POSITION;
                float2 uv : TEXCOORD0;
            };

            v2f vert(appdata_base v)
            {
                v2f o;
                o.pos = UnityObjectToClipPos(v.vertex);
                o.uv = v.texcoord.xy;
                return o;
            }

            float3 Jet(float t)
            {
                return saturate(float3(1.5 - abs(4 * t - 3), 1.5 - abs(4 * t - 2), 1.5 - abs(4 * t - 1)));
            }

            fixed4 frag(v2f i) : SV_Target
            {
                fixed4 camera = tex2D(_MainTex, i.uv);
                // Texture v runs bottom to top; the protocol's rectangles run top to bottom.
                float2 frame = float2(i.uv.x, 1 - i.uv.y);
                float2 inSource = (frame - _SaCamSource.xy) / _SaCamSource.zw;
                if (any(inSource < 0) || any(inSource > 1)) return camera;
                // The map's rows were uploaded top row first, so its row 0 sits at v = 0: top-left-origin map
                // coordinates sample it unchanged.
                float2 map = _SaCamTarget.xy + inSource * _SaCamTarget.zw;
                float m = tex2D(_SaCamMap, map).r;
                return fixed4(lerp(camera.rgb, Jet(m), _Opacity), 1);
            }
            ENDCG
        }
    }
    Fallback Off
}
